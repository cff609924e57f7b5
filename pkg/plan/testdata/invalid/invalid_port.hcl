# want: 5:12 | Invalid port | 
image "app" {}
service "web" {
  image = image.app
  ports = ["8000:99999"]
}
