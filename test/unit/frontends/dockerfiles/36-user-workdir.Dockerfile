FROM {{REGISTRY}}/test/busybox
USER 1000:1000
WORKDIR app
WORKDIR sub/dir
RUN pwd && id
USER root
WORKDIR /
