FROM {{REGISTRY}}/test/busybox
RUN ["echo", "exec form"]
CMD ["sh"]
ENTRYPOINT ["/bin/sh", "-c"]
