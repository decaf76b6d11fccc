FROM {{REGISTRY}}/test/busybox
HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2h --retries=10 CMD ["wget", "-q", "http://localhost/"]
