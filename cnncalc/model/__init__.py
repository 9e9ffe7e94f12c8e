"""The network as data: YAML read with its lines (:mod:`yamlsource`), validated into a spec
(:mod:`spec`), built into a layer graph with every shape (:mod:`graph`); the built-in networks
(:mod:`zoo`) and the JSON Schema of the format (:mod:`schema`). Depends on :mod:`cnncalc.kinds`.
"""
