# want: 3:24 | Reference to undeclared variable | Did you mean "release"?
variable "release" { default = "1.0" }
locals { version = "v${var.relase}" }
image "app" {
  target = local.version
}
