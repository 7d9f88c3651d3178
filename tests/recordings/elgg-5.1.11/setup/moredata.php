<?php
/**
 * More test data for the real Elgg site, on top of the real-site setup's makedata.php (idempotent).
 * Run from the site root: php moredata.php <ids-file>
 * - 52 open groups "Circle 01" … "Circle 52", owned by the admin; bobby joins each (a river item
 *   each), so bobby's groups take two pages of 50
 * - the open group "Gardeners" (alice owner): bobby is taken out of it and its river items are
 *   deleted, so that a recording can show bobby joining it
 * Appends GARDENERS_GUID and CIRCLE01_GUID to <ids-file>.
 */
require_once getcwd() . '/vendor/autoload.php';
\Elgg\Application::start();

$out = $argv[1] ?? 'ids.env';
$ids = elgg_call(ELGG_IGNORE_ACCESS, function () {
	$admin = elgg_get_user_by_username('admin');
	$bobby = elgg_get_user_by_username('bobby');
	_elgg_services()->session_manager->setLoggedInUser($admin);
	for ($i = 1; $i <= 52; $i++) {
		$name = sprintf('Circle %02d', $i);
		$found = elgg_get_entities(['type' => 'group', 'metadata_name_value_pairs' => ['name' => 'name', 'value' => $name], 'limit' => 1]);
		$group = $found ? $found[0] : null;
		if (!$group) {
			$group = new \ElggGroup();
			$group->name = $name;
			$group->description = "The {$name} group";
			$group->membership = ACCESS_PUBLIC;
			$group->access_id = ACCESS_PUBLIC;
			$group->owner_guid = $admin->guid;
			$group->container_guid = $admin->guid;
			$group->save();
			$group->join($admin);
		}
		if (!$group->isMember($bobby)) {
			$group->join($bobby, ['create_river_item' => true]);
		}
	}
	$alice = elgg_get_user_by_username('alice');
	$found = elgg_get_entities(['type' => 'group', 'metadata_name_value_pairs' => ['name' => 'name', 'value' => 'Gardeners'], 'limit' => 1]);
	$gardeners = $found ? $found[0] : null;
	if (!$gardeners) {
		$gardeners = new \ElggGroup();
		$gardeners->name = 'Gardeners';
		$gardeners->description = 'The Gardeners group';
		$gardeners->membership = ACCESS_PUBLIC;
		$gardeners->access_id = ACCESS_PUBLIC;
		$gardeners->owner_guid = $alice->guid;
		$gardeners->container_guid = $alice->guid;
		$gardeners->save();
		$gardeners->join($alice);
	}
	if ($gardeners->isMember($bobby)) {
		$gardeners->leave($bobby);
	}
	elgg_delete_river(['object_guid' => $gardeners->guid, 'limit' => false]);
	echo "bobby is in " . $bobby->getGroups(['count' => true]) . " groups\n";
	$circle = elgg_get_entities(['type' => 'group', 'metadata_name_value_pairs' => ['name' => 'name', 'value' => 'Circle 01'], 'limit' => 1]);
	return ['GARDENERS_GUID' => $gardeners->guid, 'CIRCLE01_GUID' => $circle[0]->guid];
});
$lines = '';
foreach ($ids as $k => $v) {
	$lines .= "{$k}={$v}\n";
}
$kept = preg_replace('/^(GARDENERS_GUID|CIRCLE01_GUID)=.*\n/m', '', (string) @file_get_contents($out));
file_put_contents($out, $kept . $lines);
echo $lines;
