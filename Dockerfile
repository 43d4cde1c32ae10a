# usersync as a service: `usersync serve` on port 8080, data (the embedded store and its secret key) in /data.
# For PostgreSQL pass DATABASE_URL and USERSYNC_SECRET_KEY, and run more containers with the command `usersync worker`.
FROM node:24-bookworm-slim
ENV NODE_ENV=production USERSYNC_DATA=/data
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only; usersync runs its TypeScript directly on Node 24 (no build step).
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY src ./src
RUN ln -s /app/bin/usersync.js /usr/local/bin/usersync && mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:8080/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["usersync", "serve", "--host", "0.0.0.0", "--port", "8080"]
