// The Kubernetes 1.27 L1 classes, taken from cdk8s-plus-27 because `cdk8s import k8s`
// downloads its schema at import time. Every file in lib/ imports the L1 API from here.
export { k8s } from 'cdk8s-plus-27';
