FROM {{REGISTRY}}/test/busybox
SHELL ["/bin/sh", "-ec"]
RUN echo "with the new shell"
ENTRYPOINT echo entry
CMD ["--flag"]
