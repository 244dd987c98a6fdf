// Package drift compares rendered objects (the repository: the desired
// state) with live objects (a cluster's, or a snapshot's) and reports drift.
// It is pure: Compare is a function of its arguments, it reads no cluster and
// no file, and its findings are values (Report, ObjectResult, FieldChange,
// Value) that the printers (text, json, markdown, junit; see NewPrinter) render.
//
// # What is drift
//
//   - A field the repository declares whose live value differs (changed).
//   - A field the repository declares that the live object lacks (added).
//   - A desired object missing from the cluster (missing).
//   - A live object that carries every label of Options.Selector and is not
//     rendered (orphaned).
//
// Fields that exist only live (server defaults, controller annotations,
// status, labels and annotations added by hand) are not drift, with two
// exceptions:
//
//   - Removed: the live object shows the repository declared the field in an
//     earlier apply, and the repository no longer does. Evidence is the
//     kubectl.kubernetes.io/last-applied-configuration annotation of
//     client-side apply, or the managedFields entries of server-side apply
//     (operation Apply) by Options.FieldManagers. Update entries are not
//     evidence, not even kubectl-client-side-apply's: the API server
//     records the defaulted fields of a created object under its creating
//     manager, so they cannot tell a removed field from a default. A block
//     removed whole (every field under it declared) is one change.
//   - Extra: lists are closed. A list the repository declares is owned
//     whole, so an item that only the cluster has is drift, e.g. an env var
//     added with kubectl edit or kubectl set env to a container the
//     repository declares, or a sidecar container. This is what users expect
//     to see, and it matters because applying does not remove it: neither
//     client-side apply (the item is not in last-applied) nor server-side
//     apply (another manager owns it) deletes it. FieldChange.Managers names
//     the managedFields managers that own the item (kubectl-edit,
//     kubectl-set, ...) when the live object tells. A workload's pod
//     template lists that Kubernetes never fills by itself (containers,
//     initContainers, volumes, imagePullSecrets; per container env, envFrom,
//     volumeMounts, ports) are owned even when the repository does not
//     declare them. The data of a ConfigMap, and of a Secret other than a
//     service-account token, is closed the same way. Open exceptions:
//     metadata.finalizers and metadata.ownerReferences (controllers add to
//     them), and, on a bare Pod, what admission adds (the
//     kube-api-access-* volume and its mount, the not-ready/unreachable
//     tolerations). Maps stay open: a key only the cluster has (a label, an
//     annotation, a defaulted field) is not drift unless declared earlier.
//
// # Normalisation
//
// Before comparing, both sides are normalised:
//
//   - Metadata the server maintains is dropped: uid, resourceVersion,
//     generation, creationTimestamp, managedFields, selfLink, deletion
//     fields, the deployment.kubernetes.io/revision and last-applied
//     annotations, kyaml's reader annotations, and status entirely.
//     apiVersion and kind are identity, not fields.
//   - Numbers compare by value (3 == 3.0); resource quantities compare by
//     amount (0.5 == 500m, 1Gi == 1024Mi, 1000m == 1) under resources.limits,
//     resources.requests, sizeLimit, overhead, ResourceQuota hard,
//     PersistentVolume capacity and LimitRange limits.
//   - Empty equals absent: a desired "", {}, [], null, false or 0 equals a
//     live field that is absent (the API server omits such values only
//     where they mean the same as absent).
//   - Secrets compare decoded: the repository's stringData is folded into
//     data (stringData wins, as on the server), and base64 is decoded on
//     both sides (line breaks allowed, as kustomize wraps long values).
//     ConfigMap binaryData compares by decoded content too.
//   - List items are matched by key, not index: containers,
//     initContainers, ephemeralContainers, env, volumes, imagePullSecrets,
//     resourceClaims and schedulingGates by name, volumeMounts by mountPath,
//     volumeDevices by devicePath, container ports by containerPort+protocol,
//     Service ports by port+protocol (protocol defaults to TCP), hostAliases
//     by ip, topologySpreadConstraints by topologyKey+whenUnsatisfiable,
//     readinessGates by conditionType. Other lists of objects are matched by
//     name when every item has one, else by index; lists of scalars are
//     compared whole (metadata.finalizers as a set).
//   - Values the server fills in are never drift unless the repository sets
//     them: protocol TCP, and a Service's clusterIP, clusterIPs, ipFamilies,
//     ipFamilyPolicy, healthCheckNodePort and ports[].nodePort.
//   - spec.replicas of a workload that a desired HorizontalPodAutoscaler
//     scales (spec.scaleTargetRef) is ignored.
//   - Options.Ignore skips fields by JSON pointer (see IgnoreRule).
//
// # Identity
//
// An object is its API group, kind, namespace and name: the version is not
// part of it. Desired objects without a namespace get
// Options.DefaultNamespace unless their kind is cluster-scoped (a built-in
// cluster-scoped kind, or a kind the live objects show without namespace).
//
// # Hashed ConfigMaps and Secrets
//
// kustomize's generators name ConfigMaps and Secrets <name>-<hash>, the hash
// being 10 characters of kustomize's hasher alphabet (see hashSuffix). When
// the desired name is not live but a live ConfigMap/Secret of the same
// namespace has the same base name and another hash, the two are one
// object: one changed ObjectResult whose ID has the desired name, with
// Renamed (base, live name, desired name), key-level Changes (unified text
// diffs for multi-line values), and Rolls, the desired workloads whose pod
// templates reference it (env valueFrom configMapKeyRef/secretKeyRef,
// envFrom, volumes configMap/secret, projected sources, imagePullSecrets;
// Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
// Job, CronJob under spec.jobTemplate, Pod, PodTemplate). A key that the
// new generation no longer has is removed (the new object is created from
// scratch). When several live generations exist (kustomize leaves the old
// ones behind), the one that the most live workloads reference is paired,
// then the newest; the others are ordinary live objects: orphans when the
// selector selects them (ObjectResult.SupersededBy names their successor),
// else not reported.
//
// The workloads themselves are changed, since their pod templates change:
// each reference is a FieldChange old name → new name whose FollowsRename
// is the renamed object's ID, so printers show it as part of the roll
// ("rolls: ConfigMap app-config renamed") rather than as an unexplained
// edit. An imagePullSecrets item is matched across the rename.
//
// # Secrets are never shown
//
// Every value under a v1 Secret's data or stringData becomes Masked in the
// report: the secret never enters it, so no printer, fmt verb or JSON
// encoding can show it. Key names and the fact that a value changed are
// reported. The last-applied annotation (which holds the data too) is never
// compared or shown; it is read only for which fields it has.
package drift
