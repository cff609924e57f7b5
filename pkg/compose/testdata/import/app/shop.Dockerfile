FROM base AS runtime
COPY --from=assets . /srv/assets
RUN --mount=type=secret,id=npm_token --mount=type=secret,id=pip true
