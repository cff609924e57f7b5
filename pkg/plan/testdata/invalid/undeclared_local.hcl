# want: 3:7 | Reference to undeclared local value | 
locals {
  a = local.c
}
