# want: 5:17 | Reference to undeclared service | No service named "db"
image "app" {}
service "web" {
  image      = image.app
  depends_on = [service.db]
}
