FROM {{REGISTRY}}/test/busybox
COPY --from={{REGISTRY}}/test/configured /etc/passwd /p
