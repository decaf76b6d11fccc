FROM {{REGISTRY}}/test/busybox
RUN <<EOT
#!/bin/sh
echo script
EOT
