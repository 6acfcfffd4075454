// The Analytics module is still empty (its issue builds it); its tests arrive with it.
import Testing
