FROM {{REGISTRY}}/test/busybox
RUN true
FROM {{REGISTRY}}/test/busybox
COPY --from=0 /etc/passwd /p
