FROM {{REGISTRY}}/test/busybox
COPY --chmod=0755 --chown=1:2 run.sh /usr/local/bin/
ADD --chown=3 conf/ /etc/app/
COPY --link --chmod=644 a b /dst/
