FROM {{REGISTRY}}/test/busybox
ADD archive.tar /extract/
ADD --chown=1:2 file /f
