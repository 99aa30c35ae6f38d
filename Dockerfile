# botwatch: build with cargo, run from a small distroless image as a non-root user.
#   docker build -t botwatch .
#   docker run -v botwatch-state:/var/lib/botwatch -v "$PWD/botwatch.yaml:/etc/botwatch/botwatch.yaml:ro" \
#     -e BOTWATCH_SUPPORT_TOKEN -e BOTWATCH_SUPPORT_SECRET -e BOTWATCH_DISCORD_TOKEN botwatch

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY rules.yaml ./
RUN cargo build --profile dist --locked --bin botwatch \
    && mkdir -p /out/state

# glibc and nothing else: TLS roots are compiled in (rustls with webpki roots).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/dist/botwatch /usr/local/bin/botwatch
COPY rules.yaml botwatch.example.yaml /etc/botwatch/
COPY --from=build --chown=65532:65532 /out/state /var/lib/botwatch
USER 65532:65532
WORKDIR /var/lib/botwatch
VOLUME ["/var/lib/botwatch"]
ENV BOTWATCH_CONFIG=/etc/botwatch/botwatch.yaml
EXPOSE 9300
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s CMD ["/usr/local/bin/botwatch", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/botwatch"]
CMD ["run"]
