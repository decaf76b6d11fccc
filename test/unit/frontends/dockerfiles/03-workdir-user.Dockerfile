FROM {{REGISTRY}}/test/busybox
WORKDIR /app
WORKDIR sub
USER nobody
WORKDIR /other
RUN pwd
