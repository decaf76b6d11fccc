FROM {{REGISTRY}}/test/busybox
SHELL ["/bin/sh", "-ec"]
RUN echo with shell
