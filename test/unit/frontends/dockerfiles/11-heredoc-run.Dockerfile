FROM {{REGISTRY}}/test/busybox
RUN <<EOT
echo one
echo two
EOT
