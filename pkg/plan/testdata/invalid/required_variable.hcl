# want: 2:1 | No value for required variable | --var release=VALUE
variable "release" {
  type = string
}
image "app" {
  tags = ["app:${var.release}"]
}
