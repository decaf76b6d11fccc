FROM {{REGISTRY}}/test/busybox
LABEL a=b "c d"=e
EXPOSE 80 443/udp
VOLUME /data ["/x"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost
ONBUILD RUN echo later
MAINTAINER someone
CMD echo done
