FROM {{REGISTRY}}/test/busybox
COPY a.txt b.txt /dst/
COPY dir /dir
COPY --chown=1000:1000 --chmod=644 x /x
