FROM {{REGISTRY}}/test/busybox
RUN --mount=type=tmpfs,target=/tmp,size=64m ls /tmp
