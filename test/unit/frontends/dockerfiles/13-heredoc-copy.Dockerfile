FROM {{REGISTRY}}/test/busybox
COPY <<EOT /etc/greeting
hello
EOT
