# want: 9:16 | Dependency cycle between services | service.web → service.worker → service.web
image "app" {}
service "web" {
  image      = image.app
  depends_on = [service.worker]
}
service "worker" {
  image      = image.app
  depends_on = [service.web]
}
