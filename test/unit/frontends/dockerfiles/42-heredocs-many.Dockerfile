FROM {{REGISTRY}}/test/busybox
RUN <<EOT sh
set -e
echo one > /one
EOT
COPY <<A /a.txt <<B /b/
first
A
second
B
RUN <<-EOT
	echo tabbed
	EOT
