ARG NODE_VERSION=20
FROM node:${NODE_VERSION}-alpine
ARG COMMIT_SHA
WORKDIR /app
COPY package.json .
RUN --mount=type=secret,id=npm npm install
COPY . .
CMD ["node", "server.js"]
