FROM {{REGISTRY}}/test/busybox
COPY --link a /a
COPY --link --chmod=600 b /b
