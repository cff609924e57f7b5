# want: 5:21 | Invalid value for variable | env is dev or prod. (value from default)
variable "env" {
  default = "qa"
  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "env is dev or prod."
  }
}
