FROM {{REGISTRY}}/test/busybox AS src
RUN echo x > /x
FROM {{REGISTRY}}/test/busybox
RUN --mount=type=bind,from=src,source=/x,target=/mnt/x cat /mnt/x
RUN --mount=type=bind,target=/ctx,rw ls /ctx
