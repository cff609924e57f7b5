# want: 5:14 | Invalid volume | shared
image "app" {}
service "web" {
  image   = image.app
  volumes = [{ source = ".", target = "/app", selinux = "yes" }]
}
