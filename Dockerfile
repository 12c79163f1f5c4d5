# The leak example, for docker-compose.yml: a service whose cache never
# evicts, watched by leakdetect, exporting to the Collector.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/leak ./examples/leak

# bookworm-slim is rebuilt with every Debian security update, unlike a
# frozen point release.
FROM debian:bookworm-slim
COPY --from=build /out/leak /usr/local/bin/leak
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/leak"]
CMD ["-keep-running", "-duration", "24h"]
