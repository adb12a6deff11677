# Longhaul worker and API image: one image, built once, runs either (docker-compose.yml picks the command).
# Node 24 LTS (it loads better-sqlite3 13; see the README's Node note).
FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 12 (installed beside 13 for older Nodes) compiles from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The code, the web UI, and the workflow bundle (WORKFLOW_BUNDLE_PATH: workers start without bundling).
RUN npm run build && node dist/scripts/bundle-workflows.js /app/dist/workflow-bundle.js && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production DATA_DIR=/data
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]
