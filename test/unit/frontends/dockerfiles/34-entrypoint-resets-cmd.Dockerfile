FROM {{REGISTRY}}/test/busybox
ENTRYPOINT ["/bin/echo"]
FROM {{REGISTRY}}/test/busybox
CMD ["a"]
ENTRYPOINT []
