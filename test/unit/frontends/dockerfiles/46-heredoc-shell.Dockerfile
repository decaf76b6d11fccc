FROM {{REGISTRY}}/test/busybox
SHELL ["/bin/sh", "-xc"]
RUN <<EOT bash -e
echo one
echo two
EOT
COPY <<-"EOF1" <<EOF2 /multi/
	first $HOME
EOF1
second $HOME
EOF2
RUN <<A cat > /x && <<B cat > /y
a
A
b
B
