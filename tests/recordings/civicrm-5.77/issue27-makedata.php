<?php
// Issue 27's data on the real CiviCRM 5.77 (run after makedata.php, with CIVICRM_WP set): relationships, a custom
// field set of several types, a smart group, one more address abroad, and a restricted WordPress user
// (role crm_restricted: access CiviCRM, view and edit all contacts, without "access all custom data" and
// "edit groups"). Prints the new ids as JSON.
$_SERVER['HTTP_HOST'] = getenv('CIVICRM_HOSTPORT') ?: '127.0.0.1:9240'; $_SERVER['SERVER_NAME'] = '127.0.0.1'; $_SERVER['REQUEST_URI'] = '/';
require getenv('CIVICRM_WP') . '/wp-load.php';
wp_set_current_user(1);
civicrm_initialize();
$out = [];
// The restricted user.
if (!get_role('crm_restricted')) {
  add_role('crm_restricted', 'CRM restricted', ['read' => TRUE, 'access_civicrm' => TRUE, 'view_all_contacts' => TRUE, 'edit_all_contacts' => TRUE]);
}
$uid = username_exists('coord1');
if (!$uid) {
  $uid = wp_insert_user(['user_login' => 'coord1', 'user_pass' => 'Civi-pass-1', 'user_email' => 'coord1@example.org', 'role' => 'crm_restricted', 'first_name' => 'Cora', 'last_name' => 'Coordinator']);
}
$user = get_userdata($uid);
CRM_Core_BAO_UFMatch::synchronizeUFMatch($user, $uid, $user->user_email, 'WordPress', NULL, 'Individual');
$cid = CRM_Core_BAO_UFMatch::getContactId($uid);
civicrm_api3('Contact', 'create', ['id' => $cid, 'api_key' => 'key-coord1-0123456789', 'first_name' => 'Cora', 'last_name' => 'Coordinator']);
$out['users']['coord1'] = $uid; $out['contacts']['coord1'] = $cid;
// Relationships (types by name): Ana employee of Leeds Food Bank, Ben spouse of Cleo, Dan child of Eva (ended,
// inactive), Finn volunteer for Leeds Food Bank (from 2024-01-15), Gia member of the Costa household.
$type = fn($n) => (int) civicrm_api3('RelationshipType', 'getvalue', ['name_a_b' => $n, 'return' => 'id']);
$rels = [
  ['Employee of', 7, 31, ['start_date' => '2023-04-01']],
  ['Spouse of', 8, 9, []],
  ['Child of', 10, 11, ['is_active' => 0, 'end_date' => '2025-06-30', 'start_date' => '2001-02-03']],
  ['Volunteer for', 12, 31, ['start_date' => '2024-01-15']],
  ['Household Member of', 13, 33, []],
];
foreach ($rels as [$name, $a, $b, $extra]) {
  $t = $type($name);
  $found = civicrm_api3('Relationship', 'get', ['contact_id_a' => $a, 'contact_id_b' => $b, 'relationship_type_id' => $t]);
  $p = ['contact_id_a' => $a, 'contact_id_b' => $b, 'relationship_type_id' => $t] + $extra;
  if ($found['count']) $p['id'] = $found['id'];
  $out['relationships'][] = (int) civicrm_api3('Relationship', 'create', $p)['id'];
}
// A custom field set on individuals: a select with options, a number, a date, a yes/no, a text.
$g = civicrm_api3('CustomGroup', 'get', ['name' => 'Supporter_details']);
if ($g['count']) { $gid = $g['id']; } else {
  $gid = civicrm_api3('CustomGroup', 'create', ['name' => 'Supporter_details', 'title' => 'Supporter details', 'extends' => 'Individual', 'style' => 'Inline', 'is_active' => 1])['id'];
}
$fields = [
  ['T-shirt size', 'String', 'Select', ['option_values' => [['label' => 'Small', 'value' => 'S', 'is_active' => 1, 'weight' => 1], ['label' => 'Medium', 'value' => 'M', 'is_active' => 1, 'weight' => 2], ['label' => 'Large', 'value' => 'L', 'is_active' => 1, 'weight' => 3]]]],
  ['Volunteer hours', 'Float', 'Text', []],
  ['First donation', 'Date', 'Select Date', ['date_format' => 'yy-mm-dd']],
  ['Gift Aid', 'Boolean', 'Radio', []],
  ['Dietary needs', 'String', 'Text', []],
  ['Visits', 'Int', 'Text', []],
];
$ids = [];
foreach ($fields as [$label, $dt, $ht, $extra]) {
  $f = civicrm_api3('CustomField', 'get', ['custom_group_id' => $gid, 'label' => $label]);
  $ids[$label] = $f['count'] ? (int) $f['id'] : (int) civicrm_api3('CustomField', 'create', ['custom_group_id' => $gid, 'label' => $label, 'data_type' => $dt, 'html_type' => $ht, 'is_active' => 1] + $extra)['id'];
}
// A second set, on every contact, that only "access all custom data" sees (no ACL grants it).
$g2 = civicrm_api3('CustomGroup', 'get', ['name' => 'Safeguarding']);
$gid2 = $g2['count'] ? $g2['id'] : civicrm_api3('CustomGroup', 'create', ['name' => 'Safeguarding', 'title' => 'Safeguarding', 'extends' => 'Contact', 'style' => 'Inline', 'is_active' => 1])['id'];
$f = civicrm_api3('CustomField', 'get', ['custom_group_id' => $gid2, 'label' => 'DBS checked']);
$ids['DBS checked'] = $f['count'] ? (int) $f['id'] : (int) civicrm_api3('CustomField', 'create', ['custom_group_id' => $gid2, 'label' => 'DBS checked', 'data_type' => 'Date', 'html_type' => 'Select Date', 'is_active' => 1])['id'];
$out['custom_groups'] = ['supporter_details' => (int) $gid, 'safeguarding' => (int) $gid2];
$out['custom_fields'] = $ids;
$c = fn($l) => 'custom_' . $ids[$l];
civicrm_api3('Contact', 'create', ['id' => 7, $c('T-shirt size') => 'M', $c('Volunteer hours') => 12.5, $c('First donation') => '2023-05-06', $c('Gift Aid') => 1, $c('Dietary needs') => 'Vegetarian', $c('Visits') => 3, $c('DBS checked') => '2024-02-01']);
civicrm_api3('Contact', 'create', ['id' => 8, $c('T-shirt size') => 'L', $c('Gift Aid') => 0, $c('Visits') => 0]);
civicrm_api3('Contact', 'create', ['id' => 9, $c('Volunteer hours') => 4]);
// An address abroad, for the country filter: Xena (30) in Lyon, France.
$addr = civicrm_api3('Address', 'get', ['contact_id' => 30, 'is_primary' => 1]);
civicrm_api3('Address', 'create', ['id' => $addr['id'] ?? NULL, 'contact_id' => 30, 'location_type_id' => 1, 'is_primary' => 1, 'street_address' => '3 Rue Mercière', 'city' => 'Lyon', 'postal_code' => '69002', 'country_id' => 1076]);
// A smart group: organisations (a saved search of Contact.get contact_type=Organization).
$s = civicrm_api3('Group', 'get', ['name' => 'organisations_smart']);
if (!$s['count']) {
  $ss = civicrm_api3('SavedSearch', 'create', ['form_values' => [['contact_type', '=', 'Organization', 0, 0]]]);
  $s = civicrm_api3('Group', 'create', ['name' => 'organisations_smart', 'title' => 'Organisations (smart)', 'description' => 'Every organisation', 'saved_search_id' => $ss['id'], 'group_type' => ['2']]);
}
$out['groups']['organisations_smart'] = (int) $s['id'];
echo json_encode($out, JSON_PRETTY_PRINT), "\n";
