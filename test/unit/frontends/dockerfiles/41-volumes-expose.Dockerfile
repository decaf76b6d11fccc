FROM {{REGISTRY}}/test/busybox
VOLUME ["/var/lib/data", "/var/log"]
VOLUME /cache /tmp/x
EXPOSE 8080 53/udp 443/tcp
EXPOSE 9000
STOPSIGNAL 9
