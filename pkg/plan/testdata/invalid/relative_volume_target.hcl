# want: 5:14 | Invalid volume | absolute target
image "app" {}
service "web" {
  image   = image.app
  volumes = ["./:app"]
}
