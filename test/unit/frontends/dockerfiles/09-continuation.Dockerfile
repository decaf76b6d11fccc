FROM {{REGISTRY}}/test/busybox
RUN echo a \
  # comment in the middle
  && echo b \
  && echo c
