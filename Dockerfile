# The operator image for people with Docker: `docker build -t ghcr.io/xapi-dev/xapi:0.1.0 .`
# (manifests/operator runs it as UID 65532 with a read-only root filesystem; nothing here writes to
# disk at run time). It is neither built nor tested by this project's CI, which has no Docker
# engine: `npm run image` builds the tested image from Debian packages instead (docs/image.md).
# Same Entrypoint/Cmd/User contract and the same /app (the bundle scripts/image-bundle.mjs makes
# of the tsc output and the production node_modules), different base (upstream Node 20 with a shell).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY imports ./imports
COPY bin ./bin
COPY scripts/image-bundle.mjs ./scripts/
# As scripts/image.sh does: the bundle resolves against production node_modules only.
RUN npx tsc -p tsconfig.json \
  && mkdir /prod && cp package.json package-lock.json /prod/ \
  && (cd /prod && npm ci --omit=dev --ignore-scripts) \
  && cp -r dist /prod/dist && node scripts/image-bundle.mjs /prod /out

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /out/dist ./dist
COPY --from=build /out/licenses ./licenses
COPY --from=build /src/bin ./bin
USER 65532:65532
ENTRYPOINT ["node", "/app/bin/xapi.js"]
CMD ["operator"]
