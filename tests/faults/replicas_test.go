package faults_test

const envRole = "MCPSTORE_FAULTS_ROLE"

func replicaMain(role string) int { return 2 }
