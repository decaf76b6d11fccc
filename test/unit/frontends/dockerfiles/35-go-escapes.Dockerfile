FROM {{REGISTRY}}/test/busybox
ENV HTML="<a href='x'>&amp;</a>"
LABEL description="a < b && c > d"
RUN echo "$HTML" > /index.html && test 1 -lt 2
CMD echo "<done>" && exit 0
