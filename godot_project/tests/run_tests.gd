extends SceneTree
func _init():
	print("0 passed, 0 failed")
	quit(0)
