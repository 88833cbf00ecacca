package main

import "syscall"

// childAttr: a child gets SIGTERM when this process dies, however it dies
// (the platform then closes its container).
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} }
