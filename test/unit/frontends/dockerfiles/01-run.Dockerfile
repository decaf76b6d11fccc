FROM {{REGISTRY}}/test/busybox
RUN echo hello
