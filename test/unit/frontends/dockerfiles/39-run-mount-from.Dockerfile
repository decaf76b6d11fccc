FROM {{REGISTRY}}/test/busybox AS tools
RUN echo tool > /tool
FROM {{REGISTRY}}/test/busybox
RUN --mount=from=tools,source=/tool,target=/mnt/tool cat /mnt/tool > /copied
RUN --mount=type=cache,target=/cache,id=c1,sharing=locked --mount=type=tmpfs,target=/t ls /cache /t
