# want: 5:14 | Invalid volume | unknown option "zz"
image "app" {}
service "web" {
  image   = image.app
  volumes = ["./:/app:zz"]
}
