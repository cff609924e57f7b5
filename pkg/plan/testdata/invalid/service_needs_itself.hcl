# want: 4:16 | Dependency cycle between services | service.web → service.web
image "app" {}
service "web" {
  depends_on = [service.web]
  image      = image.app
}
