"""Maps the flat top-level folders onto the ``ember`` package tree (see DESIGN.md, Layout)."""

from setuptools import find_packages, setup

FOLDERS = {
    "ember": "core",
    "ember.vision": "vision",
    "ember.audio": "audio",
    "ember.text": "text",
    "ember.datasets": "datasets",
}

packages = []
package_dir = {}
for name, folder in FOLDERS.items():
    package_dir[name] = folder
    packages.append(name)
    packages.extend(f"{name}.{sub}" for sub in find_packages(folder))

# data files that ship inside packages (category lists, vocabularies, configs)
setup(packages=packages, package_dir=package_dir,
      package_data={"": ["*.txt", "*.json"]}, include_package_data=True)
