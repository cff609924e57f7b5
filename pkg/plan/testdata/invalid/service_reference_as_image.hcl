# want: 4:11 | Invalid image reference | 
image "app" {}
service "web" {
  image = service.web
}
