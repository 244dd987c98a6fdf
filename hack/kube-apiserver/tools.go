//go:build tools

// Package tools pins k8s.io/kubernetes/cmd/kube-apiserver in this module's
// go.mod/go.sum. Nothing here is compiled into envctl; the binary is built by
// hack/build-kube-apiserver.sh with
//
//	go build -o ... k8s.io/kubernetes/cmd/kube-apiserver
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
